"""Level-difficulty model. Imported only inside tasks: scikit-learn must never load at DAG parse."""
