import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('oauth', '0001_initial'),
        ('accounts', '0014_oauth_login_surface'),
        ('oauth2_provider', '0022_refreshtoken_token_family_index'),
        migrations.swappable_dependency(settings.OAUTH2_PROVIDER_GRANT_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='GrantSession',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('grant', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='login_session_link', to=settings.OAUTH2_PROVIDER_GRANT_MODEL)),
                ('login_session', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.loginsession')),
            ],
        ),
        migrations.CreateModel(
            name='TokenFamilySession',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token_family', models.UUIDField(default=uuid.uuid4, unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('login_session', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.loginsession')),
            ],
        ),
    ]
