from vocclean.cli import main

main(prog_name="vocclean")
