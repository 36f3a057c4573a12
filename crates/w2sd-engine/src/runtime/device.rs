//! Device selection: CUDA, then Metal, then CPU, depending on cargo features.
//! `W2SD_DEVICE=cpu` forces the CPU. Also the CPU features w2sd's own kernels need, detected
//! at run time.

use candle_core::Device;

/// The device models run on.
pub fn device() -> Device {
    if std::env::var("W2SD_DEVICE").as_deref() == Ok("cpu") {
        return Device::Cpu;
    }
    #[cfg(feature = "cuda")]
    if let Ok(d) = Device::new_cuda(0) {
        return d;
    }
    #[cfg(feature = "metal")]
    if let Ok(d) = Device::new_metal(0) {
        return d;
    }
    Device::Cpu
}

/// A short description for status bars and benchmark reports.
pub fn describe() -> String {
    match device() {
        Device::Cpu => format!("cpu ({} threads)", candle_core::utils::get_num_threads()),
        Device::Cuda(_) => "cuda:0".to_string(),
        Device::Metal(_) => "metal:0".to_string(),
    }
}

/// Whether a w2sd kernel that needs AVX512F, AVX512BW and AVX512-VNNI runs here (detected at
/// run time) and its switch `env_off` is not set to `0` (for side-by-side benchmarks).
pub fn avx512_vnni_unless(env_off: &str) -> bool {
    if std::env::var(env_off).as_deref() == Ok("0") {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the CPU has AMX-INT8 (CPUID leaf 7: AMX-TILE and AMX-INT8), for which candle 0.11
/// has its own Q4_K prefill kernel.
pub fn amx() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            // `is_x86_feature_detected!("amx-int8")` is unstable
            #[allow(unused_unsafe)]
            // SAFETY: CPUID is available on every x86_64 CPU.
            let info = unsafe { std::arch::x86_64::__cpuid_count(7, 0) };
            info.edx & (1 << 24) != 0 && info.edx & (1 << 25) != 0
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}
