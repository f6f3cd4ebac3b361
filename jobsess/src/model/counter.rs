//! Counters: the whole-number field types `increment_field` adds to
//! ([`Counter`]), and what a backend is handed to add in one atomic step
//! ([`Increment`]).

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A whole-number field type that
/// [`increment_field`](crate::AsyncJobSession::increment_field) adds to:
/// every primitive integer type. Sealed.
///
/// ```
/// use jobsess::Counter;
/// assert_eq!(250u8.plus(5), Some(255));
/// assert_eq!(250u8.plus(6), None); // past u8::MAX
/// assert_eq!(3i32.plus(-5), Some(-2));
/// ```
pub trait Counter: Copy + Send + Serialize + DeserializeOwned + sealed::Sealed {
    /// The least value of the type that an `i64` holds.
    const MIN: i64;
    /// The greatest value of the type that an `i64` holds.
    const MAX: i64;

    /// `self + by`, or `None` past the type's range.
    fn plus(self, by: i64) -> Option<Self>;

    /// The value as an `i64`, if it fits.
    fn to_i64(self) -> Option<i64>;

    /// An `i64` as a value of the type, if it fits.
    fn from_i64(value: i64) -> Option<Self>;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! counters {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}

        impl Counter for $t {
            const MIN: i64 = if (<$t>::MIN as i128) < i64::MIN as i128 { i64::MIN } else { <$t>::MIN as i64 };
            const MAX: i64 = if (<$t>::MAX as i128) > i64::MAX as i128 { i64::MAX } else { <$t>::MAX as i64 };

            fn plus(self, by: i64) -> Option<Self> {
                <$t>::try_from(i128::try_from(self).ok()?.checked_add(i128::from(by))?).ok()
            }

            fn to_i64(self) -> Option<i64> {
                i64::try_from(self).ok()
            }

            fn from_i64(value: i64) -> Option<Self> {
                <$t>::try_from(value).ok()
            }
        }
    )*};
}

counters!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

/// One increment of a whole-number field, as a backend that can add in one
/// atomic step is handed it
/// ([`AsyncSessionBackend::increment_field`](crate::AsyncSessionBackend::increment_field)).
/// The field is stored as a plain JSON integer under `name`.
///
/// ```
/// use jobsess::backend::Increment;
/// let inc = Increment::new("done", 1).within(0, 255).absent_as(Some(0));
/// assert_eq!((inc.name(), inc.by(), inc.min(), inc.max(), inc.absent()), ("done", 1, 0, 255, Some(0)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Increment<'f> {
    name: &'f str,
    aliases: &'f [&'f str],
    by: i64,
    min: i64,
    max: i64,
    absent: Option<i64>,
}

impl<'f> Increment<'f> {
    /// Adds `by` to the field `name`, within the range of an `i64`, with no
    /// value for an absent field and no aliases.
    #[must_use]
    pub fn new(name: &'f str, by: i64) -> Self {
        Increment {
            name,
            aliases: &[],
            by,
            min: i64::MIN,
            max: i64::MAX,
            absent: None,
        }
    }

    /// The sum must lie in `min..=max`, the range of the field's type.
    #[must_use]
    pub fn within(mut self, min: i64, max: i64) -> Self {
        (self.min, self.max) = (min, max);
        self
    }

    /// What an absent field counts as: its default; `None` for no value.
    #[must_use]
    pub fn absent_as(mut self, absent: Option<i64>) -> Self {
        self.absent = absent;
        self
    }

    /// The other keys the field may be stored under (serde's `alias`).
    #[must_use]
    pub fn with_aliases(mut self, aliases: &'f [&'f str]) -> Self {
        self.aliases = aliases;
        self
    }

    /// The field's key.
    #[must_use]
    pub fn name(&self) -> &'f str {
        self.name
    }

    /// The field's aliases.
    #[must_use]
    pub fn aliases(&self) -> &'f [&'f str] {
        self.aliases
    }

    /// What to add.
    #[must_use]
    pub fn by(&self) -> i64 {
        self.by
    }

    /// The least sum the field's type holds.
    #[must_use]
    pub fn min(&self) -> i64 {
        self.min
    }

    /// The greatest sum the field's type holds.
    #[must_use]
    pub fn max(&self) -> i64 {
        self.max
    }

    /// What an absent field counts as.
    #[must_use]
    pub fn absent(&self) -> Option<i64> {
        self.absent
    }
}

/// What a backend's [`increment_field`](crate::AsyncSessionBackend::increment_field) did.
///
/// ```
/// use jobsess::backend::Incremented;
/// assert_ne!(Incremented::To(3), Incremented::NotHere);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incremented {
    /// Added: the field's new value.
    To(i64),
    /// There is no such job; nothing was written.
    NoJob,
    /// Nothing was written: the handle reads, adds and writes the field as
    /// `update_field` does, which names any error. A backend answers this
    /// when it has no atomic increment, and for what its step doesn't
    /// take: an absent field with no default, a value that is not a whole
    /// number, a field stored under an alias, a job of an earlier release,
    /// a sum past the type's range.
    NotHere,
}
