//! The action catalog every lint and every condition-key check reads:
//! the built-in services plus the registered ones. Rebuilt by
//! `iam::services::load_catalog`, through `AppState::rebuild_catalog`.

use std::sync::{Arc, RwLock};

use crate::error::{ApiError, ApiResult};
use crate::policy::lint::{Catalog, ServiceDefinition};
use crate::store::Store;

/// The catalog shared by all requests: replaced whole on every write (a
/// new `Arc`), so a reader keeps a consistent catalog for its whole lint.
#[derive(Clone)]
pub struct ServiceCatalog {
    current: Arc<RwLock<Arc<Catalog>>>,
}

impl Default for ServiceCatalog {
    fn default() -> Self {
        ServiceCatalog {
            current: Arc::new(RwLock::new(Arc::new(Catalog::builtin()))),
        }
    }
}

impl ServiceCatalog {
    pub fn current(&self) -> Arc<Catalog> {
        // A poisoned lock still holds a whole catalog: it is only ever
        // replaced, never edited in place.
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace(&self, catalog: Catalog) {
        let mut guard = match self.current.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = Arc::new(catalog);
    }
}

/// Builds the catalog from the built-in services and the stored ones.
async fn build_catalog(store: &Store) -> ApiResult<Catalog> {
    let mut catalog = Catalog::builtin();
    for text in store.list_services().await? {
        let definition: ServiceDefinition = serde_json::from_str(&text).map_err(|e| {
            ApiError::Unexpected(anyhow::anyhow!("stored service is not a definition: {e}"))
        })?;
        catalog
            .register(definition)
            .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("stored service is refused: {e}")))?;
    }
    Ok(catalog)
}

impl ServiceCatalog {
    /// Loads the stored services into this catalog: at start and after a
    /// service changed, through `AppState::rebuild_catalog`, which orders
    /// the rebuilds.
    pub(crate) async fn load(&self, store: &Store) -> ApiResult<()> {
        let catalog = build_catalog(store).await?;
        self.replace(catalog);
        Ok(())
    }
}
