//! Marks the build when `REDIS_URL` is set, so the Redis tests run then and
//! show as ignored otherwise.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(redis_url_set)");
    println!("cargo::rerun-if-env-changed=REDIS_URL");
    if std::env::var_os("REDIS_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=redis_url_set");
    }
}
