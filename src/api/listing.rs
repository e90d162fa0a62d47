//! What every list endpoint shares: the paging query and the reply shape.
//! Apart from `mod.rs` (routes and the OpenAPI document) so that the
//! handlers and the router do not import each other.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiResult;
use crate::store::ListParams;

/// `?path_prefix=&marker=&max_items=` of list endpoints.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only entities whose path starts with this (default `/`).
    pub path_prefix: Option<String>,
    /// The `marker` of the previous page.
    pub marker: Option<String>,
    /// 1 to 1000, default 100.
    pub max_items: Option<i64>,
}

impl ListQuery {
    pub fn params(&self) -> ApiResult<ListParams> {
        ListParams::from_request(
            self.path_prefix.as_deref(),
            self.marker.as_deref(),
            self.max_items,
        )
    }
}

/// Declares a list reply type `{items, is_truncated, marker}` for an item type.
macro_rules! list_response {
    ($name:ident, $item:ty) => {
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// More items follow; ask again with `marker`.
            pub is_truncated: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub marker: Option<String>,
        }

        impl $name {
            pub fn from_page<T>(page: crate::store::Page<T>, f: impl Fn(T) -> $item) -> Self {
                $name {
                    items: page.items.into_iter().map(f).collect(),
                    is_truncated: page.is_truncated,
                    marker: page.marker,
                }
            }

            pub fn complete(items: Vec<$item>) -> Self {
                $name {
                    items,
                    is_truncated: false,
                    marker: None,
                }
            }
        }
    };
}
pub(crate) use list_response;
