-- The screen's controls. `retry_presses` counts the admin's "Retry loading the
-- model" presses: a worker waiting to retry a failed load watches it and tries at
-- once when it moves (a counter, so no clock is kept).
CREATE TABLE screen_control (
    id             int PRIMARY KEY CHECK (id = 1),
    retry_presses  bigint NOT NULL DEFAULT 0
);
INSERT INTO screen_control (id) VALUES (1);

-- Flag thresholds an admin applied from the dashboard's calibration table; they
-- override SCREEN_FLAG per label until removed. Only the day is kept.
CREATE TABLE screen_flag_overrides (
    label       text PRIMARY KEY,
    threshold   real NOT NULL CHECK (threshold >= 0 AND threshold <= 1),
    set_by      bigint REFERENCES moderators (id),
    set_on      date NOT NULL DEFAULT current_date
);
