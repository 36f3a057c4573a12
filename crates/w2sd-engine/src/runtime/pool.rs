//! [`ModelPool`]: each model loaded once per process and shared between roles.
//!
//! The default weak debater is also the default judge; facilitation reads with the same weak
//! model. A pool hands out one [`SharedModel`] per spec, so a spec named twice is loaded once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Result;

use super::hub::PullProgress;
use super::language_model::LanguageModel;
use super::model::Model;

/// A loaded model shared between roles (any [`LanguageModel`] backend). Models take turns on the
/// CPU anyway.
pub type SharedModel = Arc<Mutex<Box<dyn LanguageModel>>>;

/// Wraps a model for sharing.
pub fn share(model: impl LanguageModel + 'static) -> SharedModel {
    Arc::new(Mutex::new(Box::new(model)))
}

/// Wraps an already boxed model for sharing.
pub fn share_boxed(model: Box<dyn LanguageModel>) -> SharedModel {
    Arc::new(Mutex::new(model))
}

/// Loads a spec into a backend (pulling catalog models first, with progress).
pub type Loader = Box<dyn FnMut(&str, &mut dyn FnMut(PullProgress)) -> Result<Box<dyn LanguageModel>> + Send>;

/// Models by spec, each loaded once.
pub struct ModelPool {
    models: HashMap<String, SharedModel>,
    loader: Loader,
}

/// Loads any model spec into its backend: `openai:BASE_URL#MODEL` connects to that server
/// ([`super::openai::RemoteModel`]); every other spec loads locally ([`Model::load`], pulling
/// catalog entries first).
pub fn load(spec: &str, progress: &mut dyn FnMut(PullProgress)) -> Result<Box<dyn LanguageModel>> {
    match super::openai::RemoteSpec::parse(spec) {
        Some(r) => Ok(Box::new(super::openai::RemoteModel::connect(&r?)?)),
        None => Ok(Box::new(Model::load(spec, progress)?)),
    }
}

impl Default for ModelPool {
    /// A pool that loads specs with [`load`] (local models, or remote ones by their spec).
    fn default() -> Self {
        Self::with_loader(Box::new(load))
    }
}

impl ModelPool {
    /// A pool with its own loader (another backend, or scripted models in tests).
    pub fn with_loader(loader: Loader) -> Self {
        Self { models: HashMap::new(), loader }
    }

    /// Puts an already loaded model in the pool under `spec`.
    pub fn insert(&mut self, spec: &str, model: SharedModel) {
        self.models.insert(spec.to_string(), model);
    }

    /// Whether `spec` is loaded.
    pub fn contains(&self, spec: &str) -> bool {
        self.models.contains_key(spec)
    }

    /// The model of `spec`, loaded on first use.
    pub fn get(&mut self, spec: &str, progress: &mut dyn FnMut(PullProgress)) -> Result<SharedModel> {
        if let Some(m) = self.models.get(spec) {
            return Ok(m.clone());
        }
        let m: SharedModel = Arc::new(Mutex::new((self.loader)(spec, progress)?));
        self.models.insert(spec.to_string(), m.clone());
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::scripted::ScriptedModel;

    #[test]
    fn a_spec_is_loaded_once() {
        let loads = Arc::new(Mutex::new(0));
        let l2 = loads.clone();
        let mut pool = ModelPool::with_loader(Box::new(move |spec, _| {
            *l2.lock().unwrap() += 1;
            Ok(Box::new(ScriptedModel::new(spec, "x")))
        }));
        let a = pool.get("m", &mut |_| {}).unwrap();
        let b = pool.get("m", &mut |_| {}).unwrap();
        let _c = pool.get("other", &mut |_| {}).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(*loads.lock().unwrap(), 2);
    }
}
