//! Compile-fail and compile-pass tests: every misuse of the derive and of the typed keys is
//! an error at the user's token, pinned in `tests/ui/<category>/<case>.stderr`; the programs of `tests/ui/pass/` must
//! compile and run.
//! Regenerate after an intended change with `TRYBUILD=overwrite cargo test -p jobsess-ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/input/*.rs");
    t.compile_fail("tests/ui/attr/*.rs");
    t.compile_fail("tests/ui/serde/*.rs");
    t.compile_fail("tests/ui/access/*.rs");
    t.compile_fail("tests/ui/version/*.rs");
    t.compile_fail("tests/ui/status/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
