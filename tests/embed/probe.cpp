// Prints the embedded files: "<directory>" then "<name> <size> <contents>" per file.
#include <iostream>

#include "probe_migrations.hpp"

int main() {
  const strata::EmbeddedMigrations& m = probe_migrations();
  std::cout << m.directory << "\n";
  for (const strata::SourceFile& f : m.files) std::cout << f.name << " " << f.contents.size() << " " << f.contents << "\n";
}
