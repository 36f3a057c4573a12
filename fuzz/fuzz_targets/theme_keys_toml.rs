//! A user theme file and `keys.toml` on arbitrary text.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        w2sd::fuzz::theme_toml(text);
        w2sd::fuzz::keys_toml(text);
    }
});
