from amendwatch.cli import main

main()
