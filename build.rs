//! Marks the build when `redis-cli` and `redis-server` are on the PATH, for
//! the Redis Cluster test that starts its own cluster, and when `chromium`
//! and `chromedriver` are, for the browser test (each ignored otherwise).
//! The tests that use the Redis at `REDIS_URL` are `#[ignore]`d and run
//! with `-- --include-ignored`, so setting `REDIS_URL` rebuilds nothing.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(redis_cluster_tools)");
    println!("cargo::rustc-check-cfg=cfg(browser)");
    println!("cargo::rerun-if-env-changed=PATH");
    let on_path = |tool: &str| {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
    };
    if on_path("redis-cli") && on_path("redis-server") {
        println!("cargo::rustc-cfg=redis_cluster_tools");
    }
    if on_path("chromium") && on_path("chromedriver") {
        println!("cargo::rustc-cfg=browser");
    }
}
