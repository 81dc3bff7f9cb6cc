"""Operations: health measurements, alert rules and their lifecycle, the health run of ``pipeline_health``."""
