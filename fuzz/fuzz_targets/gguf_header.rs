//! GGUF header and metadata reader (candle's reader plus w2sd's checks) on arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| w2sd::fuzz::gguf_header(data));
