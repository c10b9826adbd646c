// fmt's compiled part, for the strata executable alone (CMakeLists.txt,
// STRATA_STATIC_DEPS): Debian ships fmt as a shared library and headers
// only, and loading libfmt.so (with the libstdc++.so it needs) cost every
// start of strata ~2.5 ms. format-inl.h defines fmt's non-template
// functions; the templates the headers declare `extern` are instantiated
// here, for char (the only character type strata formats).
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {

template auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;
template locale_ref::locale_ref(const std::locale& loc);
template auto locale_ref::get<std::locale>() const -> std::locale;
template auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl(locale_ref) -> char;
template void buffer<char>::append(const char*, const char*);
template void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);

}  // namespace detail
FMT_END_NAMESPACE
