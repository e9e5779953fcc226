from leadflow.cli.main import main

main()
