#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]
//! Integration tests through HTTP. One binary (fast builds); each test runs on
//! SQLite, and on PostgreSQL too when TSUNAGU_TEST_POSTGRES_URL is set.

mod helpers;

mod access;
mod admin;
mod analysis;
mod api;
mod audit;
mod backup_system;
mod coordination;
mod fhir;
mod mail;
mod matrix;
mod ops;
mod patients;
mod public_map;
mod public_pages;
mod registry;
mod routes;
mod sign_in;
