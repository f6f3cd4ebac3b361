//! The floors of the Redis pairs: the least scripts of each write, from
//! `bench/floors/redis/`.

use super::*;

/// The least Lua scripts that do the Redis job store's writes atomically,
/// with none of its other work (no revision, no watchers, no deadline):
/// a field write only if the job exists (`EXISTS`, `HSET`), a whole write
/// that replaces the hash and lists it (`DEL`, `HSET`, `ZADD`), and a
/// removal (`ZREM`, `DEL`). Run by hand, they are the floor of any
/// implementation that keeps the store's guarantees in one round trip.
pub struct ScriptFloors {
    pub store: fred::types::scripts::Script,
    pub store_field: fred::types::scripts::Script,
    pub delete: fred::types::scripts::Script,
    /// The least scripts that do a write's whole work as the store is
    /// configured in these benches (no TTL, a pool without a command
    /// timeout, so an empty deadline): the deadline check, the revision,
    /// the index entry. They leave out only the watch mark's check and
    /// message, the version check and the alias removal.
    pub full: FullFloors,
}

/// See [`ScriptFloors::full`]. ARGV[1] is the deadline (ms, or empty).
pub struct FullFloors {
    pub store: fred::types::scripts::Script,
    pub store_field: fred::types::scripts::Script,
    pub delete: fred::types::scripts::Script,
    /// The write of a field update: the field, only if the job is still at
    /// the revision read (ARGV[2]); 0 if it changed, so the caller reads again.
    pub update_field: fred::types::scripts::Script,
}

/// A floor's script, from `bench/floors/redis/`.
macro_rules! floor {
    ($name:literal) => {
        include_str!(concat!("../floors/redis/", $name, ".lua"))
    };
}

/// A full floor's script: `deadline.lua`, then its own.
fn full(script: &str) -> fred::types::scripts::Script {
    fred::types::scripts::Script::from_lua(format!("{}\n{script}", floor!("full/deadline")))
}

impl Default for ScriptFloors {
    fn default() -> Self {
        use fred::types::scripts::Script;
        ScriptFloors {
            store: Script::from_lua(floor!("store")),
            store_field: Script::from_lua(floor!("store_field")),
            delete: Script::from_lua(floor!("delete")),
            full: FullFloors {
                store: full(floor!("full/store")),
                store_field: full(floor!("full/store_field")),
                delete: full(floor!("full/delete")),
                update_field: full(floor!("full/update_field")),
            },
        }
    }
}

impl ScriptFloors {
    pub async fn load(&self, pool: &fred::prelude::Pool) {
        for script in [
            &self.store,
            &self.store_field,
            &self.delete,
            &self.full.store,
            &self.full.store_field,
            &self.full.delete,
            &self.full.update_field,
        ] {
            script.load(pool.next()).await.expect("SCRIPT LOAD");
        }
    }

    /// The field write of the benches, by the full floor's script.
    pub async fn store_field_full(
        &self,
        pool: &fred::prelude::Pool,
        hash: String,
        prefs: &UserPreferences,
    ) {
        let json = serde_json::to_string(prefs).expect("encodes");
        let args = vec![String::new(), "user_preferences".to_owned(), json];
        let found: i64 = self
            .full
            .store_field
            .evalsha(pool.next(), hash, args)
            .await
            .expect("EVALSHA");
        assert_eq!(found, 1, "the job exists");
    }

    /// A field update by hand with the least work that keeps its guarantee
    /// (no write lost to a concurrent one): `HMGET` of the revision and the
    /// field, decode, change, encode, and the revision-checked write;
    /// again from the read if the job changed in between.
    pub async fn update_field_full(
        &self,
        pool: &fred::prelude::Pool,
        hash: String,
        f: impl Fn(&mut UserPreferences),
    ) {
        use fred::prelude::HashesInterface;
        loop {
            let (rev, json): (Option<String>, Option<String>) = pool
                .hmget(&hash, vec!["rev", "user_preferences"])
                .await
                .expect("HMGET");
            let (Some(rev), Some(json)) = (rev, json) else {
                panic!("the job exists")
            };
            let mut prefs: UserPreferences = serde_json::from_str(&json).expect("decodes");
            f(&mut prefs);
            let json = serde_json::to_string(&prefs).expect("encodes");
            let args = vec![String::new(), rev, "user_preferences".to_owned(), json];
            let written: i64 = self
                .full
                .update_field
                .evalsha(pool.next(), hash.clone(), args)
                .await
                .expect("EVALSHA");
            if written == 1 {
                return;
            }
        }
    }

    /// The field write of the benches, by the floor's script.
    pub async fn store_field(
        &self,
        pool: &fred::prelude::Pool,
        hash: String,
        prefs: &UserPreferences,
    ) {
        let json = serde_json::to_string(prefs).expect("encodes");
        let args = vec!["user_preferences".to_owned(), json];
        let found: i64 = self
            .store_field
            .evalsha(pool.next(), hash, args)
            .await
            .expect("EVALSHA");
        assert_eq!(found, 1, "the job exists");
    }
}
