//! Each check fires on one document and stays quiet on a close one.
mod corpus;
