"""python -m worker_trading"""

from worker_trading.app import main

main()
