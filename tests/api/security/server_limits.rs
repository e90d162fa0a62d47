//! (filled in by the tenant-proofing work)
