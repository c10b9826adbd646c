// schema_roundtrip_test.cpp: being written on its own branch.
