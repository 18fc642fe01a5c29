# The Celery app lives in portal/celery.py and is created on first use (`celery -A portal`
# finds it there); importing it here would load Celery into every web process.
