-- The daily_summary rows of the days first .. last, oldest first (the demo summary and the Game KPIs page).
SELECT *
FROM `{{ project }}.{{ dataset }}.daily_summary`
WHERE `date` BETWEEN DATE '{{ first }}' AND DATE '{{ last }}'
ORDER BY `date`
