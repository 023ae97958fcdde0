"""python -m trading_svc"""

from trading_svc.app import main

main()
