-- severity: fail
-- description: stickiness in [0, 1], dau <= wau <= mau <= total_players, new_players <= dau, new_payers <= payers
SELECT
    dau,
    wau,
    mau,
    total_players,
    stickiness,
    new_players,
    new_payers,
    paying_players
FROM `{{ project }}.{{ dataset }}.daily_summary`
WHERE
    `date` = DATE '{{ ds }}'
    AND (
        stickiness NOT BETWEEN 0 AND 1
        OR dau > wau
        OR wau > mau
        OR mau > total_players
        OR new_players > dau
        OR new_payers > paying_players
    )
