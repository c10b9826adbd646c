// inspect_test.cpp: being written on its own branch.
