//! Marks the build when `REDIS_URL` is set, so the Redis tests run then and
//! show as ignored otherwise; and when `redis-cli` and `redis-server` are on
//! the PATH, for the Redis Cluster test that starts its own cluster.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(redis_url_set)");
    println!("cargo::rustc-check-cfg=cfg(redis_cluster_tools)");
    println!("cargo::rerun-if-env-changed=REDIS_URL");
    println!("cargo::rerun-if-env-changed=PATH");
    if std::env::var_os("REDIS_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=redis_url_set");
    }
    let on_path = |tool: &str| {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
    };
    if on_path("redis-cli") && on_path("redis-server") {
        println!("cargo::rustc-cfg=redis_cluster_tools");
    }
}
