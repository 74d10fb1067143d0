#include <iostream>

#include "mlsys/cli/command.h"

int main(int argc, char** argv) { return mlsys::cli::run_cli(argc, argv, std::cout, std::cerr); }
