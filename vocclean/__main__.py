from vocclean.entry import main

main()
