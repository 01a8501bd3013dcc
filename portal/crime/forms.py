from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired


class CrimeUploadForm(FlaskForm):
    file = FileField("police.uk file", validators=[
        FileRequired("Choose a police.uk CSV file or a zip of them"),
        FileAllowed(["csv", "zip"], "The file must be a .csv or a .zip of .csv files")],
        description="A street-level crime CSV from data.police.uk, or a zip of monthly files")
