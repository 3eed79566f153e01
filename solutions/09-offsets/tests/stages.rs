//! Exercise "stages": `Stage::advance` in src/stage.rs.

use solution09_offsets::{Stage, StageError};

#[test]
fn each_stage_advances_to_the_next_one() {
    let pairs = [
        (Stage::Received, Stage::Decoded),
        (Stage::Decoded, Stage::Persisted),
        (Stage::Persisted, Stage::Applied),
        (Stage::Applied, Stage::Acked),
    ];
    for (from, to) in pairs {
        assert_eq!(
            from.advance(to),
            Ok(to),
            "a record that is {from} must be allowed to become {to}"
        );
    }
}

#[test]
fn acking_before_the_effect_is_a_skipped_stage() {
    assert_eq!(
        Stage::Decoded.advance(Stage::Acked),
        Err(StageError::Skipped {
            from: Stage::Decoded,
            to: Stage::Acked,
            missing: Stage::Persisted,
        }),
        "a decoded record that jumps to Acked skips its effect; the error must name the first \
         stage it skips (Persisted)"
    );
}

#[test]
fn every_skip_names_the_first_missing_stage() {
    for (i, &from) in Stage::ALL.iter().enumerate() {
        for &to in Stage::ALL.iter().skip(i + 2) {
            assert_eq!(
                from.advance(to),
                Err(StageError::Skipped {
                    from,
                    to,
                    missing: Stage::ALL[i + 1],
                }),
                "{from} -> {to} skips a stage: want Skipped with missing = {}",
                Stage::ALL[i + 1]
            );
        }
    }
}

#[test]
fn a_stage_is_never_reached_twice() {
    for stage in Stage::ALL {
        assert_eq!(
            stage.advance(stage),
            Err(StageError::Repeated { stage }),
            "a record that is {stage} must not become {stage} again: its work would be done twice"
        );
    }
}

#[test]
fn a_record_never_goes_back() {
    for (i, &from) in Stage::ALL.iter().enumerate() {
        for &to in &Stage::ALL[..i] {
            assert_eq!(
                from.advance(to),
                Err(StageError::Backwards { from, to }),
                "a record that is {from} must not go back to {to}"
            );
        }
    }
}

#[test]
fn an_acked_record_goes_nowhere() {
    for to in Stage::ALL {
        assert!(
            Stage::Acked.advance(to).is_err(),
            "Acked is the last stage: Acked -> {to} must be refused"
        );
    }
}
