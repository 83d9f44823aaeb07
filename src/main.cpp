#include "app/cli.hpp"

int main(int argc, char** argv) { return tillgate::app::run_cli(argc, argv); }
