"""An index for a patient's latest refill: the patient list's "Last refill" column and its sort."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0004_list_indexes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='refill',
            index=models.Index(fields=['patient', 'refill_date'], name='registry_re_patient_358b0c_idx'),
        ),
    ]
