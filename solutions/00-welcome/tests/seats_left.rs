use solution00_welcome::seats_left;

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

#[test]
fn a_show_with_nothing_sold_has_every_seat_left() {
    assert_eq!(
        seats_left(120, 0),
        120,
        "nothing sold yet: all 120 seats are free; zero sold is not a special case"
    );
}

#[test]
fn large_venues_are_counted_exactly() {
    assert_eq!(
        seats_left(90_000, 1),
        89_999,
        "a stadium of 90 000 seats with 1 sold has 89 999 left: \
         does the arithmetic go through a smaller type (u16, f32)?"
    );
    assert_eq!(
        seats_left(u32::MAX, 1),
        u32::MAX - 1,
        "every u32 capacity must work, the largest too: \
         a conversion to i32 or f32 loses the top values"
    );
}
