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

/// The integer SIMD that w2sd's own int8 kernels ([`super::int8_gemm`],
/// [`super::kquant_tiles`]) use on this CPU, detected at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Simd {
    /// AVX512F, AVX512BW and AVX512-VNNI: `vpdpbusd`, 64 products a step (recent Xeons, Zen 4).
    Avx512Vnni,
    /// AVX2, FMA and F16C: `vpmaddubsw` + `vpmaddwd`, 32 products in two steps (every x86-64
    /// CPU since Haswell and Zen 1).
    Avx2,
}

/// The SIMD of this CPU for the kernel switched by `env_off`: `None` where `env_off` is `0`
/// (the kernel off, for side-by-side benchmarks) or the CPU has neither; `W2SD_SIMD=avx2`
/// takes the AVX2 kernels on an AVX-512 CPU too (to compare or test them there).
pub fn simd_unless(env_off: &str) -> Option<Simd> {
    if std::env::var(env_off).as_deref() == Ok("0") {
        return None;
    }
    let avx2_only = std::env::var("W2SD_SIMD").as_deref() == Ok("avx2");
    match detected() {
        Some(Simd::Avx512Vnni) if avx2_only => Some(Simd::Avx2),
        s => s,
    }
}

/// The best [`Simd`] this CPU has.
pub fn detected() -> Option<Simd> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512bw") && has!("avx512vnni") && has!("avx2") && has!("fma") && has!("f16c") {
            return Some(Simd::Avx512Vnni);
        }
        if has!("avx2") && has!("fma") && has!("f16c") {
            return Some(Simd::Avx2);
        }
    }
    None
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
