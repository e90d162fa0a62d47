//! What every operation shares: the store, the master key, the settings,
//! the compiled-policy cache and the login throttle.

use std::sync::Arc;

use crate::auth::crypto::MasterKey;
use crate::config::Config;
use crate::iam::authorize::PolicyCache;
use crate::store::Store;
use crate::sts::login::LoginThrottle;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub master_key: MasterKey,
    pub config: Arc<Config>,
    pub policies: PolicyCache,
    pub login_throttle: LoginThrottle,
}

impl AppState {
    pub fn new(store: Store, master_key: MasterKey, config: Config) -> Self {
        AppState {
            store,
            master_key,
            config: Arc::new(config),
            policies: PolicyCache::new(),
            login_throttle: LoginThrottle::default(),
        }
    }
}
