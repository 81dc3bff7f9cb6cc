-- severity: fail
-- description: conversion_rate (paying_users / dau) must be within [0, 1]
SELECT
    platform,
    country,
    dau,
    paying_users,
    conversion_rate
FROM `{{ project }}.{{ dataset }}.revenue_daily_metrics`
WHERE
    `date` = DATE '{{ ds }}'
    AND (conversion_rate IS NULL OR conversion_rate NOT BETWEEN 0 AND 1)
