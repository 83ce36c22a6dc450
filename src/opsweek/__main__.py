from opsweek.cli import main

main()
