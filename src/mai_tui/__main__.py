from mai_tui.cli import main

main()
