# StrataQueries.cmake: typed C++ from checked queries, at build time.
#
#   strata_generate_queries(<target> <dir> [NAME <name>] [NAMESPACE <ns>])
#
# <dir> (relative to the calling CMakeLists.txt) holds .strata/queries.json,
# written by `strata prepare` and checked in. At build time
#   strata prepare --generate --output <dir>/.strata/queries.json ...
# turns that file ALONE into <name>.hpp and <name>.cpp (no database, no query
# files), in a directory of the build tree added to <target>'s private include
# path; <name>.cpp is compiled into <target>. NAME defaults to "queries",
# NAMESPACE to NAME. They are regenerated whenever queries.json (or the
# strata binary) changes. The strata binary is the strata_cli target of this
# build, or strata::strata_cli from find_package(strata).
set(_STRATA_QUERIES_LOADED TRUE)

function(strata_generate_queries target dir)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "NAME;NAMESPACE" "")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "strata_generate_queries: unexpected arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_NAME)
    set(arg_NAME queries)
  endif()
  if(NOT arg_NAMESPACE)
    set(arg_NAMESPACE ${arg_NAME})
  endif()
  if(TARGET strata_cli)
    set(strata $<TARGET_FILE:strata_cli>)
    set(strata_dep strata_cli)
  elseif(TARGET strata::strata_cli)
    set(strata $<TARGET_FILE:strata::strata_cli>)
    set(strata_dep strata::strata_cli)
  else()
    message(FATAL_ERROR "strata_generate_queries: no strata_cli target (add strata to the build or find_package(strata))")
  endif()
  get_filename_component(dir "${dir}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  set(json "${dir}/.strata/queries.json")
  if(NOT EXISTS "${json}")
    message(FATAL_ERROR "strata_generate_queries: ${json} does not exist: run `strata prepare` in ${dir} and commit it")
  endif()
  set(out "${CMAKE_CURRENT_BINARY_DIR}/strata_queries/${target}")
  add_custom_command(
    OUTPUT "${out}/${arg_NAME}.hpp" "${out}/${arg_NAME}.cpp"
    COMMAND ${strata} prepare --generate --output "${json}" --cpp-out "${out}" --name "${arg_NAME}"
            --namespace "${arg_NAMESPACE}"
    DEPENDS "${json}" ${strata_dep}
    COMMENT "Generating ${arg_NAME}.hpp and ${arg_NAME}.cpp from ${json}"
    VERBATIM)
  target_sources(${target} PRIVATE "${out}/${arg_NAME}.cpp" "${out}/${arg_NAME}.hpp")
  target_include_directories(${target} PRIVATE "${out}")
endfunction()
