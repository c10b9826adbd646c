# cmake -DDOC=docs/library.md -DFILE=examples/library_tour/main.cpp -DNAME=<as written in the doc>
#       [-DWORK=<dir for the diff's scratch file>] -P doc_matches_file.cmake
#
# Fails unless the ```cpp block that follows the line
#   <!-- verbatim: NAME -->
# in DOC is exactly the contents of FILE, so a compiled example and its copy
# in the documentation cannot drift apart.
file(READ "${DOC}" doc)
file(READ "${FILE}" code)
set(marker "<!-- verbatim: ${NAME} -->\n```cpp\n")
string(FIND "${doc}" "${marker}" start)
if(start EQUAL -1)
  message(FATAL_ERROR "${DOC} has no line '<!-- verbatim: ${NAME} -->' followed by a ```cpp block")
endif()
string(LENGTH "${marker}" marker_length)
math(EXPR start "${start} + ${marker_length}")
string(SUBSTRING "${doc}" ${start} -1 rest)
string(FIND "${rest}" "\n```\n" end)
if(end EQUAL -1)
  message(FATAL_ERROR "${DOC}: the ```cpp block after '<!-- verbatim: ${NAME} -->' is not closed")
endif()
math(EXPR end "${end} + 1")  # keep the block's final newline
string(SUBSTRING "${rest}" 0 ${end} block)
if(NOT block STREQUAL code)
  if(NOT WORK)
    set(WORK "/tmp")
  endif()
  file(WRITE "${WORK}/doc_block.txt" "${block}")
  execute_process(COMMAND diff -u "${FILE}" "${WORK}/doc_block.txt")
  message(FATAL_ERROR "the code block in ${DOC} differs from ${FILE} (diff above: - file, + doc); "
                      "copy the file into the doc")
endif()
message(STATUS "${DOC} shows ${NAME} verbatim")
