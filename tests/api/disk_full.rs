//! A full disk: writes are refused clearly while it lasts, reads go on,
//! /readyz says not ready, and writes work again once space returns,
//! without a restart. The database lives on a 4 MiB tmpfs mounted over the
//! test's data directory (root only; elsewhere the test says why it skips).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{json_with_status, skip_on_postgres, spawn_app_with, TestApp};

/// Unmounts the tmpfs when the test ends, however it ends.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn mount_small_tmpfs(dir: &Path) -> Result<Mounted, String> {
    let output = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs"])
        .arg(dir)
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(Mounted(dir.to_path_buf()))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}

/// Fills the filesystem of `dir` until it refuses another byte.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("filler");
    let block = vec![0u8; 64 * 1024];
    loop {
        match file.write(&block) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    // Byte by byte to the last one.
    while file.write(&[0]).is_ok_and(|n| n == 1) {}
    let _ = file.sync_all();
    path
}

async fn ready_status(app: &TestApp) -> u16 {
    app.client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz")
        .status()
        .as_u16()
}

async fn create_user(app: &TestApp, name: &str) -> (u16, Value) {
    let response = app.post("/v1/users", &json!({ "name": name })).await;
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_full_disk_refuses_writes_clearly_and_they_resume_without_a_restart() {
    if skip_on_postgres("the full disk is a tmpfs under the SQLite file") {
        return;
    }
    let mut mounted = None;
    let app = spawn_app_with(|config| match mount_small_tmpfs(&config.data_dir) {
        Ok(m) => mounted = Some(m),
        Err(why) => eprintln!("disk-full test skipped: cannot mount a small tmpfs ({why})"),
    })
    .await;
    let Some(_mounted) = mounted else {
        return;
    };
    assert_eq!(ready_status(&app).await, 200);
    create_user(&app, "before").await;

    let filler = fill(app.data_dir.path());
    // The write-ahead log may still have room from earlier frames: write
    // until the disk shows, and never a 500 on the way.
    let mut refused = None;
    for i in 0..500 {
        let (status, body) = create_user(&app, &format!("while-full-{i}")).await;
        match status {
            201 => continue,
            503 => {
                refused = Some(body);
                break;
            }
            other => panic!("write {i} while full answered {other}: {body}"),
        }
    }
    let refused = refused.expect("a write was refused while the disk was full");
    assert_eq!(refused["error"]["code"], "ServiceUnavailable", "{refused}");
    assert_eq!(ready_status(&app).await, 503);
    // Reads go on.
    json_with_status(app.get("/v1/users/before").await, 200).await;

    std::fs::remove_file(filler).expect("free the space");
    // The first probe after space returns makes the server ready again.
    assert_eq!(ready_status(&app).await, 200);
    for i in 0..20 {
        let (status, body) = create_user(&app, &format!("after-{i}")).await;
        assert_eq!(status, 201, "write {i} after space returned: {body}");
    }
    json_with_status(app.get("/v1/users/after-19").await, 200).await;
    // The audit trail took the writes after the episode too.
    let events = json_with_status(
        app.get("/v1/audit/events?action=iam:CreateUser&max_items=1000")
            .await,
        200,
    )
    .await;
    let names: Vec<String> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["resource"].as_str().map(str::to_string))
        .collect();
    assert!(
        names.iter().any(|r| r.ends_with("user/after-19")),
        "{names:?}"
    );
}
