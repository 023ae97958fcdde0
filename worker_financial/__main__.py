"""python -m worker_financial"""

from worker_financial.app import main

main()
