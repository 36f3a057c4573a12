//! The task loaders: the first byte picks debate JSONL or training JSONL / JSON / CSV / TSV.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    match which % 5 {
        0 => w2sd::fuzz::task_jsonl(rest),
        1 => w2sd::fuzz::w2s_data(rest, "jsonl"),
        2 => w2sd::fuzz::w2s_data(rest, "json"),
        3 => w2sd::fuzz::w2s_data(rest, "csv"),
        _ => w2sd::fuzz::w2s_data(rest, "tsv"),
    }
});
