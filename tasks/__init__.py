"""The Celery app, built from the Flask config (Flask's "Background Tasks with Celery" pattern).

Tasks live in the modules of this package; each is thin and calls a
``portal.<feature>.services`` function, so the web, the worker and the shell
run the same code.
"""
from celery import Celery, Task

from .schedule import BEAT_SCHEDULE

TASK_MODULES = ["tasks.maintenance", "tasks.notifications", "tasks.crime", "tasks.indicators", "tasks.reporting",
                "tasks.following", "tasks.pack"]


def celery_init_app(app):
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask, include=TASK_MODULES)
    celery_app.config_from_object(dict(app.config["CELERY"], beat_schedule=BEAT_SCHEDULE))
    celery_app.set_default()
    # Import the task modules now so eager mode (no worker) knows every task.
    celery_app.loader.import_default_modules()
    app.extensions["celery"] = celery_app
    return celery_app
