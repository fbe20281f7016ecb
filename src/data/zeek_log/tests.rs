use super::ascii::{format_double, format_time, tsv_line};
use super::*;

#[test]
fn placeholder() {
    assert_eq!(format_double(3.0), "3.0");
    assert_eq!(format_time(1.5), "1.500000");
    let _ = tsv_line(&[]);
}
