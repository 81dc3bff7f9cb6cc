-- Replace partition D of one metric table with its query's rows, atomically: a rerun of D yields the same rows
-- and touches no other day. The table's SELECT lives in sql/<table>/query.sql.
BEGIN TRANSACTION;

DELETE FROM `{{ project }}.{{ dataset }}.{{ params.table }}`
WHERE `date` = DATE '{{ ds }}';

INSERT INTO `{{ project }}.{{ dataset }}.{{ params.table }}`
{% include params.table ~ '/query.sql' %}; -- noqa: CV06

COMMIT TRANSACTION;
