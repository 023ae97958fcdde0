"""python -m dlq_svc"""

from dlq_svc.app import main

main()
