//! Conversions between Python values and the core's types: ids and counts
//! (out-of-range integers are `InvalidInput`, never a panic), times (aware
//! `datetime` or epoch milliseconds in, aware UTC `datetime` out) and durations
//! (`timedelta`).

use crate::errors::invalid;
use connreq_core::Timestamp;
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyInt, PyString, PyType};
use std::time::Duration;

/// Earliest time a Python `datetime` can show: 0001-01-01T00:00:00Z, the core's earliest.
pub const MIN_MS: i64 = Timestamp::EARLIEST.0;
/// Latest time a Python `datetime` can show: 9999-12-31T23:59:59.999Z, the core's latest.
pub const MAX_MS: i64 = Timestamp::LATEST.0;

const DAY_MS: i64 = 86_400_000;

/// Extracts a non-negative integer that fits `u64`; anything out of range is
/// `InvalidInput` naming `what`, anything not an integer is `TypeError`.
fn unsigned(obj: &Bound<'_, PyAny>, what: &str, max: u64) -> PyResult<u64> {
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!("{what} must be an integer, not a bool")));
    }
    let out_of_range = || invalid(format!("{what} must be an integer from 0 to {max}, not {obj}"));
    match obj.extract::<u64>() {
        Ok(v) if v <= max => Ok(v),
        Ok(_) => Err(out_of_range()),
        Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => Err(out_of_range()),
        Err(_) => Err(PyTypeError::new_err(format!(
            "{what} must be an integer, not {}",
            obj.get_type().name().map_or_else(|_| "?".to_owned(), |n| n.to_string())
        ))),
    }
}

macro_rules! unsigned_arg {
    ($(#[$doc:meta])* $name:ident($ty:ty), $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name(pub $ty);

        impl<'a, 'py> FromPyObject<'a, 'py> for $name {
            type Error = PyErr;

            fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
                let max = u64::try_from(<$ty>::MAX).unwrap_or(u64::MAX);
                let v = unsigned(&obj, $what, max)?;
                Ok($name(<$ty>::try_from(v).map_err(|_| invalid(concat!($what, " is too large")))?))
            }
        }
    };
}

unsigned_arg!(
    /// An id argument (member, request, notification, flag, event): any `u64`.
    Id(u64),
    "an id"
);
unsigned_arg!(
    /// A count in a policy field: any `u32`.
    Count(u32),
    "a policy count"
);
/// A `limit` argument: any non-negative integer; one beyond what memory could
/// hold means "no limit".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit(pub usize);

impl<'a, 'py> FromPyObject<'a, 'py> for Limit {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let negative = obj.lt(0).unwrap_or(false);
        if negative && obj.is_instance_of::<PyInt>() {
            return Err(invalid(format!("limit must not be negative, not {}", obj.as_any())));
        }
        match unsigned(&obj, "limit", u64::MAX) {
            Ok(v) => Ok(Limit(usize::try_from(v).unwrap_or(usize::MAX))),
            Err(e) if e.is_instance_of::<PyTypeError>(obj.py()) => Err(e),
            Err(_) => Ok(Limit(usize::MAX)),
        }
    }
}

/// A point in time given by Python: an aware `datetime` or integer epoch
/// milliseconds. A naive `datetime` is `InvalidInput`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At(pub Timestamp);

struct DateTimeApi {
    datetime: Py<PyType>,
    utc: Py<PyAny>,
    epoch: Py<PyAny>,
    millisecond: Py<PyAny>,
    timedelta: Py<PyType>,
}

static API: PyOnceLock<DateTimeApi> = PyOnceLock::new();

fn api(py: Python<'_>) -> PyResult<&DateTimeApi> {
    API.get_or_try_init(py, || {
        let module = py.import("datetime")?;
        let datetime = module.getattr("datetime")?.cast_into::<PyType>()?;
        let timedelta = module.getattr("timedelta")?.cast_into::<PyType>()?;
        let utc = module.getattr("timezone")?.getattr("utc")?;
        let epoch = datetime.call1((1970, 1, 1, 0, 0, 0, 0, &utc))?;
        let millisecond = timedelta.call1((0, 0, 0, 1))?;
        Ok(DateTimeApi {
            datetime: datetime.unbind(),
            utc: utc.unbind(),
            epoch: epoch.unbind(),
            millisecond: millisecond.unbind(),
            timedelta: timedelta.unbind(),
        })
    })
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

/// Reads a time: an aware `datetime` or integer epoch milliseconds, within the
/// years 1 to 9999 (UTC). `what` names the argument in messages.
pub fn timestamp(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Timestamp> {
    let py = obj.py();
    let api = api(py)?;
    let ms = if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be an aware datetime or integer epoch milliseconds, not a bool"
        )));
    } else if obj.is_instance_of::<PyInt>() {
        obj.extract::<i64>().map_err(|_| {
            invalid(format!("{what} is out of range: {obj} milliseconds is not within the years 1 to 9999"))
        })?
    } else if obj.is_instance(api.datetime.bind(py))? {
        if obj.call_method0("utcoffset")?.is_none() {
            return Err(invalid(format!(
                "{what} is a naive datetime ({obj}); give its timezone, e.g. datetime.now(timezone.utc)"
            )));
        }
        let since_epoch = obj.sub(api.epoch.bind(py))?;
        since_epoch.floor_div(api.millisecond.bind(py))?.extract::<i64>().map_err(|_| {
            invalid(format!("{what} is out of range: {obj} is not within the years 1 to 9999 (UTC)"))
        })?
    } else {
        return Err(PyTypeError::new_err(format!(
            "{what} must be an aware datetime or integer epoch milliseconds, not {}",
            type_name(obj)
        )));
    };
    if !(MIN_MS..=MAX_MS).contains(&ms) {
        return Err(invalid(format!(
            "{what} is out of range: {ms} milliseconds is not within the years 1 to 9999 (UTC)"
        )));
    }
    Ok(Timestamp(ms))
}

impl<'a, 'py> FromPyObject<'a, 'py> for At {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        timestamp(&obj, "at").map(At)
    }
}

/// The time of a command: the given one, or now.
pub fn at_or_now(at: Option<At>) -> Timestamp {
    at.map_or_else(connreq_store::now, |a| a.0)
}

/// An aware UTC `datetime` for a timestamp. Times beyond what `datetime` can
/// show (only reachable by adding a delay to a time near year 9999) are shown
/// as the nearest representable one.
pub fn to_datetime(py: Python<'_>, t: Timestamp) -> PyResult<Bound<'_, PyAny>> {
    let api = api(py)?;
    let ms = t.0.clamp(MIN_MS, MAX_MS);
    let (days, in_day) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS));
    let (y, m, d) = connreq_core::time::civil_from_days(days);
    let (h, mi, s, us) = (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60, in_day % 1000 * 1000);
    api.datetime.bind(py).call1((y, m, d, h, mi, s, us, api.utc.bind(py)))
}

/// A non-negative `timedelta` as a `Duration`, exact to the microsecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delta(pub Duration);

impl<'a, 'py> FromPyObject<'a, 'py> for Delta {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        if !obj.is_instance(api(py)?.timedelta.bind(py))? {
            return Err(PyTypeError::new_err(format!(
                "a policy duration must be a datetime.timedelta, not {}",
                type_name(&obj)
            )));
        }
        let days: i64 = obj.getattr("days")?.extract()?;
        let seconds: i64 = obj.getattr("seconds")?.extract()?;
        let micros: i64 = obj.getattr("microseconds")?.extract()?;
        if days < 0 {
            return Err(invalid(format!("a policy duration must not be negative, not {}", obj.as_any())));
        }
        // days < 1e9, so this cannot overflow.
        let total = (days * 86_400 + seconds) as u64;
        Ok(Delta(Duration::from_secs(total) + Duration::from_micros(micros as u64)))
    }
}

/// A `timedelta` for a duration (exact to the microsecond).
pub fn to_timedelta(py: Python<'_>, d: Duration) -> PyResult<Bound<'_, PyAny>> {
    let secs = d.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    api(py)?.timedelta.bind(py).call1((days, rest, d.subsec_micros()))
}

/// A text argument. Text Rust cannot hold (a lone surrogate) is `InvalidInput`;
/// anything not a `str` is `TypeError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(pub String);

impl Text {
    /// The text as `&str`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Text {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let s = obj
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err(format!("expected a str, not {}", type_name(obj.as_any()))))?;
        match s.to_str() {
            Ok(text) => Ok(Text(text.to_owned())),
            Err(_) => Err(invalid("the text is not valid Unicode (it holds a lone surrogate)")),
        }
    }
}

/// `Option<Text>` as `Option<&str>`.
pub fn opt_str(text: &Option<Text>) -> Option<&str> {
    text.as_ref().map(Text::as_str)
}
