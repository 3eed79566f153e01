use step00_welcome::seats_left;

#[test]
fn free_seats_are_capacity_minus_sold() {
    assert_eq!(
        seats_left(120, 20),
        100,
        "a show with 120 seats and 20 sold has 100 seats left"
    );
}

#[test]
fn a_sold_out_show_has_no_seats_left() {
    assert_eq!(
        seats_left(80, 80),
        0,
        "a show with 80 seats and 80 sold has none left"
    );
}

#[test]
fn an_overbooked_show_reports_zero_not_a_huge_number() {
    assert_eq!(
        seats_left(10, 12),
        0,
        "12 sold out of 10 seats is an overbooking: report 0 seats left, never a negative or wrapped-around number"
    );
}
