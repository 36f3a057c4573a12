//! Device selection: CUDA, then Metal, then CPU, depending on cargo features.
//! `W2SD_DEVICE=cpu` forces the CPU.

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
